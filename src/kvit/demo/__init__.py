"""Demo data: `kvit seed` fills an empty database with two organisations.

* ООО «УК Волжский берег» (code demo-uk, a management company): apartment buildings in Tver,
  company → building → entrance nodes; maintenance, current repair, capital repair (for the
  regional operator's fund), cold and hot water by meter, heating by area, electricity,
  solid waste per person, common-house electricity, intercom; common-house meters.
* АО «Верхневолжскэнергосбыт» (code demo-energo, an energy sales company): region →
  district → substation → feeder → transformer point; private houses on a tiered or a
  day/night tariff; legal consumers with contracts and transformer-rated meters.

Twelve months of readings end with the month before the reference date (default
2025-07-01). The first premises of each organisation carry one story each (a rollover, a
meter replaced mid-month, a failed meter, co-owners with shares, separate share accounts,
a sale, moves in and out, a temporary registration, a beneficiary, a missing meter with and
without an act), so even the smallest demo shows every case.

Logins (printed by the command; passwords are public demo passwords):

    admin / demo-admin                    platform superuser
    uk-chairman, uk-accountant, uk-engineer / demo-staff
    energo-chairman, energo-accountant, energo-engineer / demo-staff
    uk-consumer-N, energo-consumer-N / demo-consumer   (one per 100 accounts, 2-3 accounts each)

Modules: generator (pure row generation, per chunk) → housing, energy (+ their catalogs),
residents, meters, users → bulk (COPY / executemany); reset deletes the demo; check
validates a sample; bench measures a seed on a scratch PostgreSQL database:

    python -m kvit.demo.bench --accounts 100000
"""
