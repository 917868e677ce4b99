"""the console: its accounts, sessions, sign-in throttle, audit log, and the kiosks' alarms

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 12:03:48.587786

The alarms of a platform that stored `alarm` transactions before this revision are read back from them
(kiosk/central/alarm_intake.py), so the console shows the faults that are open now.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alarms',
    sa.Column('raised_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('device', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('raised_at', sa.Double(), nullable=False),
    sa.Column('cleared_at', sa.Double(), nullable=True),
    sa.Column('cleared_id', sa.Text(), nullable=True),
    sa.Column('acked_by', sa.Text(), nullable=True),
    sa.Column('acked_at', sa.Double(), nullable=True),
    sa.Column('ack_note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('raised_id')
    )
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.create_index('alarms_by_kiosk', ['kiosk_id', 'raised_at'], unique=False)
        batch_op.create_index('alarms_open', ['cleared_at', 'raised_at'], unique=False)

    op.create_table('console_audit',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('detail', sa.Text(), server_default=sa.text("'{}'"), nullable=False),
    sa.PrimaryKeyConstraint('rowid')
    )
    with op.batch_alter_table('console_audit', schema=None) as batch_op:
        batch_op.create_index('console_audit_by_time', ['at'], unique=False)

    op.create_table('console_login_failures',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('failures', sa.BigInteger(), nullable=False),
    sa.Column('since', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('console_users',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), sa.CheckConstraint("role IN ('operator', 'staff', 'auditor')"), nullable=False),
    sa.Column('hall', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('disabled_at', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('console_sessions',
    sa.Column('token_sha256', sa.Text(), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('csrf', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('seen_at', sa.Double(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['user_name'], ['console_users.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_sha256')
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index('console_sessions_by_expiry', ['expires_at'], unique=False)

    from kiosk.central import alarm_intake
    alarm_intake.backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index('console_sessions_by_expiry')

    op.drop_table('console_sessions')
    op.drop_table('console_users')
    op.drop_table('console_login_failures')
    with op.batch_alter_table('console_audit', schema=None) as batch_op:
        batch_op.drop_index('console_audit_by_time')

    op.drop_table('console_audit')
    with op.batch_alter_table('alarms', schema=None) as batch_op:
        batch_op.drop_index('alarms_open')
        batch_op.drop_index('alarms_by_kiosk')

    op.drop_table('alarms')
