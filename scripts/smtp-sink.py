#!/usr/bin/env python3
"""An SMTP server for the e-mail tests: aiosmtpd's server, keeping every message it accepts.

    python3 scripts/smtp-sink.py DIR [PORT]

Listens on 127.0.0.1:PORT (a free port when 0 or absent) and prints `listening on
127.0.0.1:PORT` once it accepts connections. Each accepted message is written whole to
DIR/NNNNNN.eml (written, then renamed). Recipients decide the answer, so that a test can
provoke each outcome: a local part starting with `reject` is refused for good (550), one
starting with `later` is refused for now (451); every other recipient is accepted.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.count = len([n for n in os.listdir(folder) if n.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("later"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.folder, "%06d.eml" % self.count)
        with open(name + ".partial", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".partial", name)
        return "250 2.0.0 OK: kept as %06d" % self.count


async def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    handler = Keep(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp-sink.test"), "127.0.0.1", port, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % bound, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
