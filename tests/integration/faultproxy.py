"""A TCP proxy in front of a test-bed service that a test can cut and restore, to play an outage or a restart in
the middle of a run: while it is down, new connections are closed at once and open ones are cut."""

from __future__ import annotations

import socket
import threading


class FaultProxy:
    def __init__(self, target_port, down_after=None, bind="127.0.0.1", target_host="127.0.0.1"):
        """down_after: go down by itself once that many connections have been accepted; bind: the address it
        listens on (another interface lets machines outside the loopback reach a test-bed service);
        target_host: where the service listens (the API server: in the test bed's network namespace)."""
        self.target = (target_host, target_port)
        self.down_after = down_after
        self.down = threading.Event()
        self.connections = 0
        self._open = set()
        self._lock = threading.Lock()
        self._server = socket.create_server((bind, 0))
        self.port = self._server.getsockname()[1]
        self.address = "%s:%d" % (bind, self.port)
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self):
        self.down.set()
        with self._lock:
            for sock in list(self._open):
                _close(sock)

    def restore(self):
        self.down.clear()

    def close(self):
        self.cut()
        _close(self._server)

    def _accept(self):
        while True:
            try:
                client, dummy = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                if self.down_after is not None and self.connections > self.down_after and not self.down.is_set():
                    self.down_after = None
                    threading.Thread(target=self.cut, daemon=True).start()
            if self.down.is_set():
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._open.discard(sock)
                _close(sock)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
