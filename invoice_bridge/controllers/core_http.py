"""What the addon needs from HTTP requests that Odoo 18 offers no public API for, in one place.

Odoo's request wrapper (``odoo.http.HTTPRequest``) exposes werkzeug's request only through a list of public
attributes. Reading a *chunked* body with a size limit needs the werkzeug stream behind it (werkzeug 2.2,
Odoo's pin, does not apply ``max_content_length`` to chunked bodies), as ``addons/bus/websocket.py`` reaches the
socket. Only this module touches the private name; ``tests/test_core_http.py`` fails if Odoo renames it.
"""

#: the private attribute of odoo.http.HTTPRequest holding werkzeug's request
WRAPPED_ATTRIBUTE = "_HTTPRequest__wrapped"
CHUNK = 65536


class BodyTooLarge(Exception):
    def __init__(self, limit):
        super().__init__(limit)
        self.limit = limit


def werkzeug_request(httprequest):
    """The werkzeug request behind Odoo's wrapper."""
    return getattr(httprequest, WRAPPED_ATTRIBUTE)


def read_body(httprequest, limit):
    """The request body, at most ``limit`` bytes, chunked or not (``BodyTooLarge`` beyond)."""
    length = httprequest.content_length
    if length is not None and length > limit:
        raise BodyTooLarge(limit)
    # its stream ends at Content-Length or at the last chunk
    stream = werkzeug_request(httprequest).stream
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyTooLarge(limit)
    return b"".join(chunks)


def pg_connection(cr):
    """The psycopg2 connection under a cursor: a long-lived stream waits on its socket for NOTIFY."""
    return cr._cnx


def client_socket(httprequest):
    """The client's TCP socket, which Odoo's servers put in the WSGI environ for its websockets (None if absent)."""
    environ = getattr(httprequest, "_HTTPRequest__environ", None) or werkzeug_request(httprequest).environ
    return environ.get("socket")
