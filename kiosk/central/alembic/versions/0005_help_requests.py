"""help requests: a citizen's "Call staff" at a kiosk, open until staff mark it handled

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 19:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('help_requests',
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=True),
    sa.Column('hall_name', sa.Text(), nullable=True),
    sa.Column('screen', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.Double(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.Column('handled_at', sa.Double(), nullable=True),
    sa.Column('handled_by', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('transaction_id')
    )
    op.create_index('help_requests_by_hall', 'help_requests', ['hall', 'requested_at'], unique=False)
    op.create_index('help_requests_open', 'help_requests', ['handled_at', 'requested_at'], unique=False)


def downgrade() -> None:
    op.drop_index('help_requests_open', table_name='help_requests')
    op.drop_index('help_requests_by_hall', table_name='help_requests')
    op.drop_table('help_requests')
