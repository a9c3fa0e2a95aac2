from leotwin.cli import run

run()
