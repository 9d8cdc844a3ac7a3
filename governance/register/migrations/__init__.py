"""Alembic migrations of the register, applied in order when a register is opened. Append only."""
