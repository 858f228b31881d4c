"""MLflow's own client against a live Modelog server in the same event loop."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


def client_for(live: Any) -> MlflowClient:
    return MlflowClient(tracking_uri=live.url, registry_uri=live.url)


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The client blocks; the server shares this event loop, so the client runs in a thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> MlflowException:
    with pytest.raises(MlflowException) as info:
        await run(fn, *args, **kwargs)
    return info.value


async def error_code(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    return (await refused(fn, *args, **kwargs)).error_code
