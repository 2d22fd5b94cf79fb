# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step
# of those two. Recipes go through scripts/ so that they also work without make.

.PHONY: run test setup build size paint bench bench-peer load desk-latency screenshots clean-test-dbs

run:
	@scripts/run.sh

test:
	@scripts/test.sh

setup:
	@scripts/setup.sh

build: setup
	@scripts/build.sh

# Compressed size of what a patient's browser downloads for the booking page.
size: build
	@node scripts/size.mjs

# How soon the booking page paints and its islands hydrate in headless Chromium, cold and warm.
paint: build
	@scripts/setup.sh --test
	@scripts/with-env.sh node scripts/paint.mjs

# Phone-sized and desktop screenshots of each step of the patient flow, for the README.
screenshots: build
	@scripts/setup.sh --test
	@scripts/with-env.sh node end2end/screenshots.mjs

# Benchmarks: the slot engine, booking throughput (SQLite and PostgreSQL) and store-backed
# availability (criterion, results under target/criterion); webhook delivery latency and
# throughput against the release server binary.
bench: setup
	@scripts/postgres.sh ensure
	@BOOKING_TEST_POSTGRES_URL=$$(scripts/postgres.sh url) scripts/with-env.sh cargo bench -p domain -p store -p server --features domain/bench,store/bench

# Requests a second and latency of the bot API and the booking page against the release
# server on SQLite.
load: build
	@scripts/with-env.sh node scripts/load.mjs

# The peer availability workload (../shared/peer-workload, or PEER_WORKLOAD_DIR): slots checked
# against the dataset's, then latency and requests a second over HTTP.
bench-peer: build
	@scripts/with-env.sh node scripts/bench-peer.mjs

# How soon a booking reaches 20 open desks, on SQLite and across two PostgreSQL instances.
desk-latency: build
	@scripts/postgres.sh ensure
	@scripts/with-env.sh node scripts/desk-latency.mjs

clean-test-dbs:
	@scripts/postgres.sh clean
