"""``python -m governance.schemas``: regenerate the committed JSON Schemas."""

from governance.schemas import write_all

for path in write_all():
    print(path)
