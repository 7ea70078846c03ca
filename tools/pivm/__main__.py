import sys

from pivm.cli import main

sys.exit(main())
