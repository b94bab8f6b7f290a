"""An SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port), writing each message it
receives, as received, to DIR/<n>.eml (atomically: written aside, then renamed). Prints
`listening on 127.0.0.1:PORT` once it accepts connections; stops on SIGTERM or SIGINT.

    python smtp_sink.py DIR
"""

import asyncio
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:06d}.eml")
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode()
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.rename(path + ".part", path)
        return "250 Message accepted"


async def main(directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    loop = asyncio.get_running_loop()
    sink = Sink(directory)
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="kadr-test-smtp"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
