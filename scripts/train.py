#!/usr/bin/env python3
"""Train the float CIFAR-10 ResNet-18 from the CIFAR-10 binaries: see bsnpu/train.py."""

import sys

from bsnpu import train

if __name__ == "__main__":
    sys.exit(train.main())
