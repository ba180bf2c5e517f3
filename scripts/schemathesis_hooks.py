"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

One custom check: every error answer of the API (4xx and 5xx) is the JSON error shape of
PRODUCT.md, `{"error": {"code": "snake_case", "message": "..."}}`, sent as
`application/json`. The built-in checks only compare error bodies with what the document
declares, and leave undeclared statuses alone: this one holds for all of them.
"""

import json
import re

import schemathesis

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@schemathesis.check
def json_error_shape(ctx, response, case):
    """Every 4xx/5xx answer is {"error": {"code": snake_case, "message": str}} in JSON."""
    if response.status_code < 400:
        return None
    content_types = response.headers.get("content-type") or [""]
    content_type = content_types[0].split(";")[0].strip().lower()
    # The witness protocol (c2sp.org/tlog-witness) answers a stale size as its own text type.
    if response.status_code == 409 and content_type == "text/x.tlog.size":
        return None
    if content_type != "application/json":
        raise AssertionError(
            f"{response.status_code} answered with Content-Type {content_type!r}, "
            f"not application/json: {response.content[:200]!r}"
        )
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} body is not JSON ({error})") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        raise AssertionError(f"{response.status_code} body is not {{\"error\": {{...}}}}: {body!r}")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not SNAKE_CASE.match(code):
        raise AssertionError(f"error code is not snake_case: {code!r}")
    if not isinstance(message, str) or not message:
        raise AssertionError(f"error message is not a non-empty string: {message!r}")
    return None


@schemathesis.serializer("application/pdf")
def pdf_bytes(ctx, value):
    """Evidence uploads (`POST /api/v1/processors/{id}/evidence`) take the file's bytes: send
    the generated string as UTF-8. The server checks the bytes against the declared type,
    so most such uploads are a documented 422."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
