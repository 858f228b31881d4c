"""What the tests share, so that no test module imports another (fixtures are in the conftest.py
files: tests/ for the database, tests/e2e/ for servers, clients and the browser).

    pg                   the session's PostgreSQL (an env URL, testcontainers or embedded), with_database
    server               a real server on a free port (serving, Server, Live), calls with a token,
                         grants, the privileges tests' team, a reader of Server-Sent Events
    cli                  the `modelog` command as a subprocess, and a plain HTTP client for it
    history              make_history: every kind of event, through the service
    attackers            the scene of the attack tests (World) and their expectations
    mlflow_models        a scikit-learn model logged through the real MLflow client, and loaded
    eventstore_contract  EventStoreContract: the event store's tests, for any backend or mode

Each part imports only what it needs (the MLflow and scikit-learn imports stay in mlflow_models), so
the unit tests import none of the heavy ones. tests/__init__.py has pytest rewrite the asserts here
as it does in test modules.
"""
