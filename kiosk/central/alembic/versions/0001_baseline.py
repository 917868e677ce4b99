"""The platform's schema as the SQL migrations 0001-0007 (kiosk/central/migrations/) left it.

A database made by those is marked at this revision without running it
(kiosk/central/database.py); a new one is made by it.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_events',
    sa.Column('case_number', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('utc_offset_s', sa.BigInteger(), nullable=False),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('final', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('body_hash', sa.Text(), nullable=False),
    sa.Column('posted_by', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('case_number', 'event_id')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('case_events_by_case', ['case_number', 'at'], unique=False)

    op.create_table('cases',
    sa.Column('case_number', sa.Text(), nullable=False),
    sa.Column('item_name', sa.Text(), nullable=False),
    sa.Column('holder_hash', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('phone_masked', sa.Text(), nullable=True),
    sa.Column('needs_id_card', sa.BigInteger(), nullable=False),
    sa.Column('hold_days', sa.BigInteger(), nullable=False),
    sa.Column('staff_mobile', sa.Text(), nullable=True),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('body_hash', sa.Text(), nullable=True),
    sa.Column('posted_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.Column('phone_deleted_at', sa.Double(), nullable=True),
    sa.Column('promised_by', sa.Text(), nullable=True),
    sa.Column('accepted_at', sa.Double(), nullable=True),
    sa.Column('utc_offset_s', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('case_number')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('cases_by_holder', ['holder_hash', 'created_at'], unique=False)

    op.create_table('catalogs',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('items', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.Double(), nullable=False),
    sa.Column('uploaded_by', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('rowid')
    )
    op.create_table('config_bundles',
    sa.Column('version', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('targets', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.Double(), nullable=False),
    sa.Column('uploaded_by', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('demo_code_payments',
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('service', sa.Text(), nullable=False),
    sa.Column('code_sha256', sa.Text(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('queries', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('refund_reference', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('kiosk_id', 'reference')
    )
    op.create_table('demo_fee_notices',
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('department', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('hall_name', sa.Text(), nullable=False),
    sa.Column('payer', sa.Text(), nullable=False),
    sa.Column('payer_masked', sa.Text(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Text(), nullable=False),
    sa.Column('paid_by', sa.Text(), nullable=True),
    sa.Column('paid_at', sa.Double(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('number'),
    sa.CheckConstraint('total_fen > 0')
    )
    op.create_table('documents',
    sa.Column('doc_id', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('pages', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('doc_id')
    )
    op.create_table('fee_payments',
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('reference', sa.Text(), nullable=False),
    sa.Column('fee_notice', sa.Text(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('paid_at', sa.Text(), nullable=False),
    sa.Column('token_sha256', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('notice', sa.Text(), nullable=True),
    sa.Column('refund_id', sa.Text(), nullable=True),
    sa.Column('attempts', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('transaction_id'),
    sa.UniqueConstraint('kiosk_id', 'reference'),
    sa.UniqueConstraint('token_sha256'),
    sa.CheckConstraint("state IN ('received', 'paid', 'refund_due', 'refunded')")
    )
    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.create_index('fee_payments_by_notice', ['fee_notice'], unique=False)
        batch_op.create_index('fee_payments_by_state', ['state'], unique=False)

    op.create_table('halls',
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('utc_offset', sa.Text(), nullable=False),
    sa.Column('checkin_early_min', sa.BigInteger(), nullable=False),
    sa.Column('checkin_late_min', sa.BigInteger(), nullable=False),
    sa.Column('offline_prefixes', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('hall')
    )
    op.create_table('handins',
    sa.Column('handin_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('case_number', sa.Text(), nullable=False),
    sa.Column('door', sa.BigInteger(), nullable=False),
    sa.Column('handed_in_at', sa.Text(), nullable=False),
    sa.Column('receipt_no', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('collected_at', sa.Double(), nullable=True),
    sa.Column('collected_by', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('handin_id')
    )
    with op.batch_alter_table('handins', schema=None) as batch_op:
        batch_op.create_index('handins_by_case', ['case_number'], unique=False)
        batch_op.create_index('handins_by_door', ['kiosk_id', 'case_number', 'door', 'state'], unique=False)

    op.create_table('kiosks',
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('groups', sa.Text(), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('kiosk_id')
    )
    op.create_table('nonces',
    sa.Column('principal', sa.Text(), nullable=False),
    sa.Column('nonce', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'nonce'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.create_index('nonces_by_expiry', ['expires_at'], unique=False)

    op.create_table('notices',
    sa.Column('deposit_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('case_number', sa.Text(), nullable=False),
    sa.Column('door', sa.BigInteger(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=True),
    sa.Column('place', sa.Text(), server_default=sa.text("('')"), nullable=False),
    sa.Column('item_name', sa.Text(), nullable=True),
    sa.Column('deposited_at', sa.Double(), nullable=False),
    sa.Column('due_at', sa.Double(), nullable=True),
    sa.Column('utc_offset_s', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.Double(), nullable=True),
    sa.Column('ended_by', sa.Text(), nullable=True),
    sa.Column('token_sha256', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('deposit_id'),
    sa.UniqueConstraint('token_sha256')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('notices_by_case', ['case_number', 'deposited_at'], unique=False)
        batch_op.create_index('notices_by_door', ['kiosk_id', 'case_number', 'door', 'state'], unique=False)
        batch_op.create_index('notices_by_due', ['state', 'due_at'], unique=False)

    op.create_table('operators',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('quarantine',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('source_table', sa.Text(), nullable=False),
    sa.Column('source_key', sa.Text(), nullable=False),
    sa.Column('row_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('quarantined_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('rowid')
    )
    op.create_table('queue_clock',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('offset_s', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.CheckConstraint('id = 1')
    )
    op.create_table('queue_days',
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('business', sa.Text(), nullable=False),
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.Column('next_free_at', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('hall', 'business', 'day')
    )
    op.create_table('sms_queue',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('template', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('case_number', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('attempts', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_at', sa.Double(), nullable=False),
    sa.Column('lease_until', sa.Double(), nullable=True),
    sa.Column('lease_owner', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('gateway', sa.Text(), nullable=True),
    sa.Column('gateway_ref', sa.Text(), nullable=True),
    sa.Column('phone_masked', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.Column('sent_at', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id', 'template')
    )
    with op.batch_alter_table('sms_queue', schema=None) as batch_op:
        batch_op.create_index('sms_queue_by_case', ['case_number', 'state'], unique=False)
        batch_op.create_index('sms_queue_due', ['state', 'next_at'], unique=False)
        batch_op.create_index('sms_queue_leases', ['state', 'lease_until'], unique=False)

    op.create_table('ticket_clashes',
    sa.Column('transaction_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('transaction_id')
    )
    op.create_table('tickets',
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('business', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=False),
    sa.Column('priority', sa.BigInteger(), nullable=False),
    sa.Column('offline', sa.BigInteger(), nullable=False),
    sa.Column('holder_hash', sa.Text(), nullable=True),
    sa.Column('appointment', sa.Text(), nullable=True),
    sa.Column('waiting_before', sa.BigInteger(), nullable=False),
    sa.Column('estimated_wait_min', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sa.Double(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('called_at', sa.Double(), nullable=True),
    sa.Column('transaction_id', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('hall', 'day', 'number'),
    sa.CheckConstraint("state IN ('waiting', 'called', 'lapsed', 'superseded')")
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('tickets_by_request', ['kiosk_id', 'request_id'], unique=True, sqlite_where=sa.text("state != 'superseded'"), postgresql_where=sa.text("state != 'superseded'"))
        batch_op.create_index('tickets_waiting', ['hall', 'business', 'day', 'state', 'issued_at'], unique=False)

    op.create_table('transaction_conflicts',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('rowid')
    )
    op.create_table('appointments',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('business', sa.Text(), nullable=False),
    sa.Column('holder_hash', sa.Text(), nullable=True),
    sa.Column('day', sa.Text(), nullable=False),
    sa.Column('slot_start', sa.Text(), nullable=False),
    sa.Column('slot_end', sa.Text(), nullable=False),
    sa.Column('ticket', sa.Text(), nullable=True),
    sa.Column('checked_in_at', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['hall'], ['halls.hall'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('appointments_by_holder', ['hall', 'holder_hash', 'day'], unique=False)

    op.create_table('businesses',
    sa.Column('hall', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('prefix', sa.Text(), nullable=False),
    sa.Column('windows', sa.BigInteger(), nullable=False),
    sa.Column('minutes_per_ticket', sa.Double(), nullable=False),
    sa.Column('hours', sa.Text(), nullable=False),
    sa.Column('closed_dates', sa.Text(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['hall'], ['halls.hall'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hall', 'code'),
    sa.UniqueConstraint('hall', 'prefix')
    )
    op.create_table('document_downloads',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('doc_id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('holder', sa.Text(), nullable=True),
    sa.Column('at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['doc_id'], ['documents.doc_id'], ),
    sa.PrimaryKeyConstraint('rowid')
    )
    op.create_table('document_releases',
    sa.Column('doc_id', sa.Text(), nullable=False),
    sa.Column('holder', sa.Text(), nullable=False),
    sa.Column('released_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['doc_id'], ['documents.doc_id'], ),
    sa.PrimaryKeyConstraint('doc_id', 'holder')
    )
    with op.batch_alter_table('document_releases', schema=None) as batch_op:
        batch_op.create_index('document_releases_by_holder', ['holder'], unique=False)

    op.create_table('hall_kiosks',
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('hall', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['hall'], ['halls.hall'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kiosk_id')
    )
    op.create_table('heartbeats',
    sa.Column('rowid', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.kiosk_id'], ),
    sa.PrimaryKeyConstraint('rowid')
    )
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.create_index('heartbeats_by_age', ['received_at'], unique=False)
        batch_op.create_index('heartbeats_by_kiosk', ['kiosk_id', 'received_at'], unique=False)

    op.create_table('kiosk_status',
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.kiosk_id'], ),
    sa.PrimaryKeyConstraint('kiosk_id')
    )
    op.create_table('transactions',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kiosk_id', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.Text(), nullable=False),
    sa.Column('boot_id', sa.Text(), nullable=True),
    sa.Column('uptime_s', sa.Double(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('body_sha256', sa.Text(), nullable=False),
    sa.Column('received_at', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.kiosk_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.create_index('transactions_by_kiosk_seq', ['kiosk_id', 'seq'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index('transactions_by_kiosk_seq')

    op.drop_table('transactions')
    op.drop_table('kiosk_status')
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_index('heartbeats_by_kiosk')
        batch_op.drop_index('heartbeats_by_age')

    op.drop_table('heartbeats')
    op.drop_table('hall_kiosks')
    with op.batch_alter_table('document_releases', schema=None) as batch_op:
        batch_op.drop_index('document_releases_by_holder')

    op.drop_table('document_releases')
    op.drop_table('document_downloads')
    op.drop_table('businesses')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('appointments_by_holder')

    op.drop_table('appointments')
    op.drop_table('transaction_conflicts')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('tickets_waiting')
        batch_op.drop_index('tickets_by_request', sqlite_where=sa.text("state != 'superseded'"), postgresql_where=sa.text("state != 'superseded'"))

    op.drop_table('tickets')
    op.drop_table('ticket_clashes')
    with op.batch_alter_table('sms_queue', schema=None) as batch_op:
        batch_op.drop_index('sms_queue_leases')
        batch_op.drop_index('sms_queue_due')
        batch_op.drop_index('sms_queue_by_case')

    op.drop_table('sms_queue')
    op.drop_table('queue_days')
    op.drop_table('queue_clock')
    op.drop_table('quarantine')
    op.drop_table('operators')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('notices_by_due')
        batch_op.drop_index('notices_by_door')
        batch_op.drop_index('notices_by_case')

    op.drop_table('notices')
    with op.batch_alter_table('nonces', schema=None) as batch_op:
        batch_op.drop_index('nonces_by_expiry')

    op.drop_table('nonces')
    op.drop_table('kiosks')
    with op.batch_alter_table('handins', schema=None) as batch_op:
        batch_op.drop_index('handins_by_door')
        batch_op.drop_index('handins_by_case')

    op.drop_table('handins')
    op.drop_table('halls')
    with op.batch_alter_table('fee_payments', schema=None) as batch_op:
        batch_op.drop_index('fee_payments_by_state')
        batch_op.drop_index('fee_payments_by_notice')

    op.drop_table('fee_payments')
    op.drop_table('documents')
    op.drop_table('demo_fee_notices')
    op.drop_table('demo_code_payments')
    op.drop_table('config_bundles')
    op.drop_table('catalogs')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('cases_by_holder')

    op.drop_table('cases')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('case_events_by_case')

    op.drop_table('case_events')
