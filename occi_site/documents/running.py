"""pyHanko signs and validates with coroutines; the portal's views are synchronous."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_to_completion(coroutine):
    """The result of ``coroutine``, run on an event loop of its own.

    ``asyncio.run`` (and so pyHanko's synchronous wrappers) refuses to start
    in a thread that already runs a loop, as an asyncio host of the WSGI
    application or a browser driver in the tests does: there the coroutine
    runs on a loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()
