"""$connect: rate-limit the source IP and register the connection."""
