"""projects: a `projects` table with the `default` project, which every existing session, run,
sweep, model, version, alias and audit event moves into; session ids and model names become
unique per project; api_tokens.projects limits a token to a list (NULL: every project)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:10:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DEFAULT = "default"
# Tables whose rows a project owns, and whether the project joins their primary key.
OWNED = {
    "sessions": ["project", "id"],
    "runs": None,
    "sweeps": None,
    "models": ["project", "name"],
    "model_versions": ["project", "model_name", "version"],
    "model_aliases": ["project", "model_name", "alias"],
    "audit_events": None,
}
# The registry's children point at (project, name) of models instead of name.
CHILDREN = ("model_versions", "model_aliases")


def _project_column() -> sa.Column:
    return sa.Column("project", sa.String(length=64), nullable=False, server_default=DEFAULT)


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projects")),
    )
    op.bulk_insert(projects, [{"name": DEFAULT, "created_at": datetime.now(UTC)}])
    postgres = op.get_bind().dialect.name == "postgresql"
    for child in CHILDREN:  # before the primary key they refer to changes
        with op.batch_alter_table(child) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_model_name_models", type_="foreignkey")
    for table, primary_key in OWNED.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(_project_column())  # existing rows: the default project
            if primary_key is not None:
                if postgres:  # SQLite's batch mode rebuilds the table with the new key
                    batch_op.drop_constraint(f"pk_{table}", type_="primary")
                batch_op.create_primary_key(f"pk_{table}", primary_key)
            elif table != "sweeps":
                batch_op.create_index(f"ix_{table}_project", ["project"], unique=False)
    for child in CHILDREN:
        with op.batch_alter_table(child) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{child}_project_models",
                "models",
                ["project", "model_name"],
                ["project", "name"],
                ondelete="CASCADE",
            )
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("projects", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Back to one namespace: only possible while the default project holds everything."""
    others = op.get_bind().execute(
        sa.text("SELECT name FROM projects WHERE name != :d"), {"d": DEFAULT}
    )
    if others.first() is not None:
        raise RuntimeError("other projects than 'default' exist: delete them before downgrading")
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("projects")
    for child in CHILDREN:
        with op.batch_alter_table(child) as batch_op:
            batch_op.drop_constraint(f"fk_{child}_project_models", type_="foreignkey")
    for table, primary_key in OWNED.items():
        with op.batch_alter_table(table) as batch_op:
            if primary_key is not None:
                if postgres:
                    batch_op.drop_constraint(f"pk_{table}", type_="primary")
                batch_op.create_primary_key(f"pk_{table}", primary_key[1:])
            elif table != "sweeps":
                batch_op.drop_index(f"ix_{table}_project")
            batch_op.drop_column("project")
    for child in CHILDREN:
        with op.batch_alter_table(child) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{child}_model_name_models",
                "models",
                ["model_name"],
                ["name"],
                ondelete="CASCADE",
            )
    op.drop_table("projects")
