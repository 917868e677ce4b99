"""the console: ratings, their follow-up and their counts per day, activity counted per day and hour

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:26:49.677821
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_daily',
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('service', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'kiosk_id', 'kind', 'service')
    )
    op.create_table('activity_hourly',
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('hour', sa.BigInteger(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hour', 'hall')
    )
    op.create_table('ratings',
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=True),
    sa.Column('service', sa.Text(), nullable=False),
    sa.Column('level', sa.BigInteger(), nullable=False),
    sa.Column('level_key', sa.Text(), nullable=True),
    sa.Column('reasons', sa.Text(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('rated_at', sa.Double(), nullable=False),
    sa.Column('followup_state', sa.Text(), nullable=False),
    sa.Column('followup_at', sa.Double(), nullable=True),
    sa.Column('followup_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('transaction_id')
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index('ratings_by_hall', ['hall', 'rated_at'], unique=False)
        batch_op.create_index('ratings_by_time', ['rated_at'], unique=False)
        batch_op.create_index('ratings_followup', ['followup_state', 'rated_at'], unique=False)

    op.create_table('rating_followups',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.ForeignKeyConstraint(['transaction_id'], ['ratings.transaction_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rowid')
    )
    with op.batch_alter_table('rating_followups', schema=None) as batch_op:
        batch_op.create_index('rating_followups_by_rating', ['transaction_id', 'at'], unique=False)



    op.create_table('activity_halls',
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('service', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hall', 'kind', 'service')
    )
    op.create_table('activity_kiosks',
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'kiosk_id')
    )
    op.create_table('rating_counts',
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('service', sa.Text(), nullable=False),
    sa.Column('level', sa.BigInteger(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hall', 'service', 'level')
    )

    # the rows for what a platform stored before this revision (each module's `backfill(conn)`)
    from kiosk.central import activity_intake
    activity_intake.backfill(op.get_bind())
    from kiosk.central import rating_intake
    rating_intake.backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('rating_followups', schema=None) as batch_op:
        batch_op.drop_index('rating_followups_by_rating')

    op.drop_table('rating_followups')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ratings_followup')
        batch_op.drop_index('ratings_by_time')
        batch_op.drop_index('ratings_by_hall')

    op.drop_table('ratings')
    op.drop_table('rating_counts')
    op.drop_table('activity_kiosks')
    op.drop_table('activity_halls')
    op.drop_table('activity_hourly')
    op.drop_table('activity_daily')
