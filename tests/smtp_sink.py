"""A real SMTP server for the notification tests (aiosmtpd).

Every accepted message is written to DIR as <n>.eml (the bytes received after
DATA) with <n>.rcpt beside it (the envelope recipients, one per line).
Recipients listed with --reject are refused with a permanent 550 at RCPT;
with --defer, with a transient 451. Runs until killed.

    python tests/smtp_sink.py --port 2525 --dir /tmp/mail [--reject a@x] [--defer b@x]
"""

import argparse
import asyncio
import itertools
import pathlib

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, reject, defer):
        self.folder = folder
        self.reject = set(reject)
        self.defer = set(defer)
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 No such mailbox here"
        if address in self.defer:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        # Written under a temporary name, then renamed: a reader never sees half a message.
        partial = self.folder / f"{n}.partial"
        partial.write_bytes(envelope.original_content or envelope.content)
        (self.folder / f"{n}.rcpt").write_text("\n".join(envelope.rcpt_tos) + "\n")
        partial.rename(self.folder / f"{n}.eml")
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=pathlib.Path, required=True)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(args.dir, args.reject, args.defer), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
