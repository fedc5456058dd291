import sys

from pelodump.cli import main

sys.exit(main())
