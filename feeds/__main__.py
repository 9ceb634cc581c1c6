from feeds.cli import command

command()
