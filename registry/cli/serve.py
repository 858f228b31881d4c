"""`modelog serve`: run the registry server (the HTTP app; bootstrap.registry builds the rest)."""

import argparse
import asyncio
import errno
import os
import sys
from pathlib import Path

import structlog

from registry.cli.common import NEWER_SCHEMA, PORT_UNAVAILABLE, Subparsers, database_options, env
from registry.memory import parse_size
from registry.settings import S3Settings, Settings


def add_parser(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the registry server")
    serve.add_argument("--host", default=env("MODELOG_HOST", "127.0.0.1"),
                       help="address to listen on (default 127.0.0.1; env MODELOG_HOST)")
    serve.add_argument("--port", type=int, default=int(env("MODELOG_PORT", "8080") or 8080),
                       help="port to listen on (default 8080; env MODELOG_PORT)")
    serve.add_argument("--default-schema", default=env("MODELOG_DEFAULT_SCHEMA", "unity.default"),
                       help="the workspace schema (catalog.schema): every model name an MLflow "
                            "client sends, dotted or not, is a model of it "
                            "(default unity.default; env MODELOG_DEFAULT_SCHEMA)")
    serve.add_argument("--tracking-uri", default=env("MODELOG_TRACKING_URI"),
                       help="the MLflow tracking server runs and logged models live on: "
                            "registrations get their run id and run link from it, and sources "
                            "inside a run's artifacts are checked against it "
                            "(env MODELOG_TRACKING_URI)")
    serve.add_argument("--webhook-retention-days", type=float,
                       default=env("MODELOG_WEBHOOK_RETENTION_DAYS", "30"),
                       help="how long finished webhook deliveries stay in the delivery log "
                            "(default 30; env MODELOG_WEBHOOK_RETENTION_DAYS)")
    serve.add_argument("--storage-root", default=env("MODELOG_STORAGE_ROOT"),
                       help="where model version files go (default file://<data dir>/artifacts; "
                            "env MODELOG_STORAGE_ROOT)")
    serve.add_argument("--s3-credentials", choices=("sts", "static"),
                       default=env("MODELOG_S3_CREDENTIALS", "sts"),
                       help="with an s3:// storage root: per-version credentials from STS "
                            "AssumeRole scoped to the version's prefix (sts, as Unity Catalog), "
                            "or the server's own keys for stores without STS (static) "
                            "(default sts; env MODELOG_S3_CREDENTIALS)")
    serve.add_argument("--s3-role-arn", default=env("MODELOG_S3_ROLE_ARN"),
                       help="the role STS lets the server assume (env MODELOG_S3_ROLE_ARN)")
    serve.add_argument("--s3-region", default=env("MODELOG_S3_REGION"),
                       help="the STS region (default: AWS_REGION or the profile's, else "
                            "us-east-1; env MODELOG_S3_REGION)")
    serve.add_argument("--s3-sts-endpoint", default=env("MODELOG_S3_STS_ENDPOINT"),
                       help="an S3-compatible store's own STS URL (default: AWS's; env "
                            "MODELOG_S3_STS_ENDPOINT)")
    serve.add_argument("--s3-credential-seconds", type=int,
                       default=int(env("MODELOG_S3_CREDENTIAL_SECONDS", "3600") or 3600),
                       help="how long a vended credential lives (default 3600; env "
                            "MODELOG_S3_CREDENTIAL_SECONDS)")
    serve.add_argument("--auth", choices=("tokens", "trusted-header"), default=env("MODELOG_AUTH"),
                       help="require a bearer token on every request but health (tokens), or "
                            "also take the principal from a proxy's header (trusted-header); "
                            "default: tokens unless bound to loopback (env MODELOG_AUTH)")
    serve.add_argument("--trusted-header", default=env("MODELOG_TRUSTED_HEADER", "X-Forwarded-User"),
                       help="the header a proxy names the user in, with --auth trusted-header "
                            "(default X-Forwarded-User; env MODELOG_TRUSTED_HEADER)")
    serve.add_argument("--mlflow-webhook-schemes",
                       default=env("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", "https"),
                       help="comma-separated URL schemes MLflow's webhooks may use (default "
                            "https; env MLFLOW_WEBHOOK_ALLOWED_SCHEMES, as MLflow's server)")
    serve.add_argument("--mlflow-webhook-allow-private-ips", action="store_true",
                       default=(env("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "") or "").lower()
                       in ("true", "1"),
                       help="let MLflow's webhooks reach private, loopback and link-local hosts "
                            "(env MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true, as MLflow's server)")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="no authentication even on a non-loopback bind: every request acts "
                            "as the admin")
    serve.add_argument("--memory", type=parse_size, default=env("MODELOG_MEMORY", "512M"),
                       help="bytes the process may keep of the registry in memory (its write "
                            "model and read cache, half each; e.g. 256M, 2G; default 512M; env "
                            "MODELOG_MEMORY)")
    serve.add_argument("--workers", type=int,
                       default=int(env("MODELOG_WORKERS", "1") or 1),
                       help="server processes on the port, sharing the log (e.g. the number of "
                            "cores; default 1; env MODELOG_WORKERS)")
    database_options(serve)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; aiohttp's own messages go to stderr, stdout stays quiet."""
    from aiohttp import web

    from registry.eventstore.database import NewerSchema
    from registry.http.app import create_app

    try:  # a faster event loop where the platform has one (Linux, macOS)
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    settings = Settings(host=args.host, port=args.port, data_dir=Path(args.data_dir),
                        database_url=args.database_url, default_schema=args.default_schema,
                        tracking_uri=args.tracking_uri,
                        storage_root=args.storage_root, auth=args.auth,
                        s3=S3Settings(credentials=args.s3_credentials, role_arn=args.s3_role_arn,
                                      region=args.s3_region, sts_endpoint=args.s3_sts_endpoint,
                                      credential_seconds=args.s3_credential_seconds),
                        insecure_no_auth=args.insecure_no_auth, trusted_header=args.trusted_header,
                        webhook_retention_days=args.webhook_retention_days,
                        mlflow_webhook_schemes=tuple(
                            s.strip() for s in args.mlflow_webhook_schemes.split(",") if s.strip()),
                        mlflow_webhook_allow_private_ips=args.mlflow_webhook_allow_private_ips,
                        memory=args.memory, workers=int(env("MODELOG_WORKER_OF", "1") or 1))
    if args.auth and args.insecure_no_auth:
        print("modelog serve: --insecure-no-auth contradicts --auth", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("modelog serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        from registry.cli.supervise import supervise

        return asyncio.run(supervise(sys.argv[1:], args.workers, args.database_url,
                                     Path(args.data_dir)))
    try:
        app = create_app(settings)
    except ValueError as exc:  # a configuration that cannot be served, e.g. its storage root
        print(f"modelog serve: {exc}", file=sys.stderr)
        return 2
    if settings.workers > 1:  # say which worker each line comes from
        structlog.contextvars.bind_contextvars(pid=os.getpid())
    try:
        web.run_app(app, host=settings.host, port=settings.port, access_log=None,
                    reuse_port=settings.workers > 1,  # the kernel spreads connections over workers
                    print=lambda msg: print(msg, file=sys.stderr))
    except NewerSchema as exc:
        print(f"modelog serve: {exc}", file=sys.stderr)
        return NEWER_SCHEMA
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        # run_app has stopped what started (the embedded PostgreSQL) on its way out.
        print(f"modelog serve: cannot listen on {settings.host}:{settings.port}: "
              f"{os.strerror(exc.errno)}", file=sys.stderr)
        return PORT_UNAVAILABLE
    return 0
