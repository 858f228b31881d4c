"""Which version each alias and stage of a model pointed at, and when: one period model (folded
once, in projections/alias_history.py's `plan`) and one chart of it, for the web UI, the timeline
API and the compliance report alike. Pure: no I/O."""
