"""enrolment tokens: a kiosk fetches its secret with a one-time token

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:44:04.535616
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enrolments',
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('token_sha256', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.Double(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.Column('failures', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('kiosk_id')
    )


def downgrade() -> None:
    op.drop_table('enrolments')
