import sys

from shortener.cli import main

sys.exit(main())
