#!/usr/bin/env python3
"""An SMTP server for the e-mail tests: aiosmtpd's server, keeping every message it accepts.

    python3 scripts/smtp-sink.py DIR [PORT] [USER:PASSWORD]

Listens on 127.0.0.1:PORT (a free port when 0 or absent) and prints `listening on
127.0.0.1:PORT` once it accepts connections. Each accepted message is written whole to
DIR/NNNNNN.eml (written, then renamed). Recipients decide the answer, so that a test can
provoke each outcome: a local part starting with `reject` is refused for good (550), one
starting with `later` is refused for now (451); every other recipient is accepted. With
USER:PASSWORD, a client must log in (AUTH PLAIN or LOGIN; over plain TCP, as a test allows)
before it may send, and a wrong login is refused (535).
"""

import asyncio
import logging
import os
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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


def only(login):
    user, password = login.split(":", 1)

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: the server answers a refusal itself (535).
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    login = sys.argv[3] if len(sys.argv) > 3 else None
    handler = Keep(folder)
    options = {}
    if login:
        # Logging in over plain TCP is what this test server is for; no warning about it.
        warnings.filterwarnings("ignore")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        options = {"authenticator": only(login), "auth_required": True, "auth_require_tls": False}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp-sink.test", **options), "127.0.0.1", port, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    print("listening on 127.0.0.1:%d" % bound, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
