"""Issue 6's attacks, the part read from the code rather than sent over HTTP (the rest is
tests/e2e/test_attacks.py): token checks compare hashes in constant time."""

import ast
import hashlib
import inspect

from registry.auth import store, tokens
from registry.http import authenticate as middleware


def test_token_checks_compare_hashes_in_constant_time() -> None:
    """By inspection: the only comparison of a secret is hmac.compare_digest of SHA-256 digests,
    and nothing else in the auth code compares a secret or a hash with `==`."""
    verify = inspect.getsource(tokens.verify)
    assert "hmac.compare_digest(digest(token.secret), stored)" in verify
    for module in (tokens, store, middleware):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Compare) and any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
                text = ast.unparse(node)
                assert "secret" not in text and "hash" not in text, (module.__name__, text)
    # The row is found by the token's id; the secret is only ever compared as above.
    assert "WHERE id = $1" in inspect.getsource(store.Auth._credential)
    t = tokens.new()
    stored = tokens.digest(t.secret)
    assert stored == hashlib.sha256(t.secret.encode()).digest() and t.secret.encode() not in stored
    for wrong in (t.secret[:-1] + ("A" if t.secret[-1] != "A" else "B"),
                  ("A" if t.secret[0] != "A" else "B") + t.secret[1:], t.secret[:-1]):
        assert not tokens.verify(tokens.Token(t.id, wrong), stored)
