"""$disconnect: best-effort cleanup of the connection and its membership."""
