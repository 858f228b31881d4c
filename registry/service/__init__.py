"""The write side's shell: commands decided against the write model and appended in one batch."""
