"""``python -m qec.learned.pretrained CKPT [CKPT ...]``: ship trained checkpoints (their optimizer state left out)."""

import sys

from qec.learned.pretrained import export

for source in sys.argv[1:]:
    print(export(source))
