"""Writes imagenet_classes.txt: the 1000 ImageNet-1k class names, one a line, in class-index order (the order of the
sorted synset folders, n01440764 = 0 = tench), as Debian's python3-torchvision 0.14 ships them.

Run: /usr/bin/python3 make_imagenet_classes.py
"""
from torchvision.models._meta import _IMAGENET_CATEGORIES

assert len(_IMAGENET_CATEGORIES) == 1000
with open("imagenet_classes.txt", "w", encoding="utf-8") as f:
    for name in _IMAGENET_CATEGORIES:
        f.write(name + "\n")
