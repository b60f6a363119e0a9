"""When JetStream stored each event: for the outbox lag in scripts/bench-events.

Reads the messages a stream receives from now on and prints one line per
message, `<Nats-Msg-Id> <stored time, Unix seconds>`, until no message has
come for --idle seconds (after the first). The bench joins the ids with the
audit rows' event_time; the difference is commit (nearly: the change's
start) to JetStream's ack.

    python bench/stream_times.py --url nats://127.0.0.1:4222 --stream BENCH_EVENTS
"""

import argparse
import asyncio
import sys

import nats
import nats.js.errors
from nats.js.api import ConsumerConfig, DeliverPolicy


async def created(jetstream, stream: str):
    """The stream's info once it exists."""
    while True:
        try:
            return await jetstream.stream_info(stream)
        except nats.js.errors.NotFoundError:
            await asyncio.sleep(0.05)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", required=True)
    parser.add_argument("--idle", type=float, default=3.0)
    args = parser.parse_args()

    client = await nats.connect(args.url)
    jetstream = client.jetstream()
    try:
        info = await jetstream.stream_info(args.stream)
        start = info.state.last_seq + 1
        print("ready", file=sys.stderr, flush=True)
    except nats.js.errors.NotFoundError:
        # A new stream: the relay creates it on first use; read all of it.
        print("ready", file=sys.stderr, flush=True)
        info, start = await created(jetstream, args.stream), 1
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start)
    subscription = await jetstream.subscribe(
        info.config.subjects[0], stream=args.stream, ordered_consumer=True, config=config
    )
    timeout = None
    while True:
        try:
            message = await subscription.next_msg(timeout=timeout or 3600)
        except nats.errors.TimeoutError:
            break
        timeout = args.idle
        print(message.headers["Nats-Msg-Id"], message.metadata.timestamp.timestamp())
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
