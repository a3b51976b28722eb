import os
import secrets
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from inventory.app_role import grant_app_role
from inventory.subscriptions import InventoryError
from socconsole.lib.env import env_str


class Command(BaseCommand):
    help = ("Create or update the PostgreSQL role the console runs as, with rights on rows "
            "only (INSERT and SELECT on the activity log). Run it as the migration role, "
            "after every migrate. The role and its password come from APP_DATABASE_URL (or "
            "APP_DATABASE_URL_FILE), from --url-file (created with a new random password "
            "when missing), or --role (the password left as it is).")

    def add_arguments(self, parser):
        parser.add_argument("--role", help="The role's name (default soc_app with --url-file).")
        parser.add_argument("--url-file", type=Path,
                            help="The file holding the URL web, worker and beat connect with "
                                 "(their DATABASE_URL_FILE); written if missing.")

    def handle(self, *args, role, url_file, **options):
        url, write = env_str("APP_DATABASE_URL", ""), False
        if url_file is not None and url_file.exists():
            url = url_file.read_text().strip()
        elif url_file is not None:
            settings = connection.settings_dict
            role = role or "soc_app"
            url = (f"postgres://{quote(role, safe='')}:{secrets.token_urlsafe(32)}@"
                   f"{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}")
            write = True
        password = None
        if url:
            config = dj_database_url.parse(url)
            if role and role != config["USER"]:
                raise CommandError(f"--role {role} is not the app URL's user {config['USER']}.")
            role, password = config["USER"], config["PASSWORD"] or None
        if not role:
            raise CommandError("Name the role: --role NAME, --url-file PATH, or set "
                               "APP_DATABASE_URL.")
        try:
            done = grant_app_role(role, password=password)
        except InventoryError as exc:
            raise CommandError(str(exc)) from exc
        if write:
            # Written only once the role has its password: a failed run leaves no file.
            fd = os.open(url_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(url + "\n")
            done.append(f"wrote {url_file} (the app's DATABASE_URL_FILE)")
        for line in done:
            self.stdout.write(line)
