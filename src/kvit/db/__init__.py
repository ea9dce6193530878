"""Database building blocks shared by every app: effective dating and its constraints."""
