"""The certificate pickup locker: one hall area, one package.

    model.py    the door plan and what the doors hold (`DoorPlan`, `LockerModel`): the store's view,
                each change committed with its outbox transaction; intents, recovery, reconciliation
    doors.py    opening a door and watching it close: the device steps every locker flow shares
    base.py     `LockerFlow`: the flow base for the locker, with the door, card and scanner steps the flows share
    pickup.py   the citizen's pickup (`PickupFlow`)
    handin.py   the citizen hands in missing materials (`HandinFlow`, 补交材料), its receipt, the case look-up port
    deposit.py  staff deposit an item (`DepositFlow`)
    recall.py   staff take out overdue items and handed-in materials (`RecallFlow`)

The four flows stand on the one flow base (kiosk/core/flow.py): a state enum with its declared
transitions, the blocking steps (door, card, scanner, database) on the flow's injected executor,
late results of an ended visit dropped. Staff sign-in (kiosk/core/staff.py) is shared with the
technician's PIN and stays outside. The composition is kiosk/app/pickup.py.
"""
