"""Authentication: principals, bearer tokens and the server's auth modes."""
