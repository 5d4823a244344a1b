"""``python -m qec.learned.pretrained CKPT [CKPT ...]``: ship trained checkpoints (their optimizer state left out)."""

import sys

from qec.learned.pretrained import export


def main(argv: list[str]) -> None:
    for source in argv:
        print(export(source))


if __name__ == "__main__":
    main(sys.argv[1:])
