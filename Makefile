# Pixie's two commands, on a fresh Debian/Ubuntu machine:
#   make run    the whole appliance locally on an emulated panel (no Pi needed), all on loopback
#               (PIXIE_DISPLAY_EMULATOR_HOST=0.0.0.0 make run: the emulated panel for the network too)
#   make reset-state   forget make run's jobs, apps and settings (~/.local/state/pixie, shared by every clone)
#   make test   every check CI runs
#   make bench  the benchmarks (not part of test: speed is measured, not asserted)
#   make bench-readme  the README's benchmark table and docs/bench.png from the last `make bench` run
#                      (SECTION=bench-pi3: from the last `make bench-pi3`, its own table and docs/bench-pi3.png)
#   make bench-pi3     `python -m bench --quick` inside the Pi-3-shaped arm64 VM: artifacts/bench-pi3/
#                      (emulated, ~25 min; PIXIE_BENCH_SIZE=full for make bench's sample sizes; not in CI)
#   make molecule      site.yml converged, verified and faulted in a booted x86_64 VM (CI runs it after test)
#   make molecule-pi3  the same on a Pi-3-shaped arm64 VM (slow: not in CI)
#   make molecule-pi4  the same on a Pi-4-shaped arm64 VM, pixie_board: pi4 (cortex-a72, 2 GB; slow: not in CI)
#   make molecule-rollback  make molecule, then a broken update rolled back by the health gate and
#                      playbooks/rollback.yml run (molecule/shared/verify/rollback.yml; not in CI)
#   make molecule-readonly  the read-only root (pixie_storage_readonly_root) on the x86_64 VM: sealed,
#                      0 root writes idle, a power cut, an update that lifts and seals it (not in CI)
#   make image-tests   playbooks/image.yml built, read back and booted (root, ~15 min: not in CI)
#   make lock          re-resolve app/constraints.txt (the app's pinned dependencies; commit it)
#   make golden        rewrite tests/golden/*.png from the renderers (only when pixels change on purpose)
# Both install what is missing first (apt packages, then a virtualenv in .venv).

VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# redis-server: the real one for the appliance and the tests; mosquitto(-clients): the real MQTT
# broker of `make run` and the tests, and the protocol's reference clients; systemd: systemd-analyze
# verifies the rendered unit files; git: the rgbmatrix role's fixture repository;
# chromium: the page tests drive it headless (Playwright never downloads a browser);
# xz-utils..util-linux: flash.yml writes and seeds images without mounting them;
# openssh-server: the ssh role's result is read back with `sshd -T`; strace: the card-writes
# benchmark counts the durable Redis's fsyncs; python3-pil: pixie_app's Pillow hold is tested
# against the distro's own; xfonts-base, xfonts-unifont: the bitmap fonts text is drawn in (as on the device);
# nginx-light: the reverse proxy bench.tls weighs uvicorn's own TLS against.
APT_PACKAGES := redis-server mosquitto mosquitto-clients python3-venv python3-dev git make systemd curl chromium \
	xz-utils mtools fdisk dosfstools e2fsprogs util-linux openssh-server strace python3-pil \
	xfonts-base xfonts-unifont nginx-light

.PHONY: run reset-state test bench bench-readme bench-pi3 hardening deps lint pytest molecule molecule-pi3 molecule-pi4 molecule-rollback molecule-readonly image-tests lock golden

# molecule/install-deps.sh installs QEMU, debootstrap & co. (apt) and molecule (this venv).
MOLECULE_VENV ?= $(HOME)/.cache/pixie-molecule/venv

run: deps $(BIN)/.installed
	$(BIN)/pixie-local

# Refused while make run runs (its Redis answers).
reset-state: $(BIN)/.installed
	$(BIN)/pixie-local --reset-state

test: deps $(BIN)/.installed lint pytest

# The original design against pixie, side by side: artifacts/bench/bench.{json,png} and a table;
# then what reaches the SD card, one AOF against durable + volatile: artifacts/bench/card_writes.json;
# then the rotation's dwell boundaries and in-place updates against jobs: artifacts/bench/rotation.json;
# then MQTT's front door against HTTP's (publish to panel, broker restart, PSS): artifacts/bench/mqtt.json;
# then a job's state changes over the event stream against polling for them: artifacts/bench/events.json;
# then text in the bitmap fonts (with icons, with fallback) against sans, and the PSS: artifacts/bench/render.json;
# then the README's timing promises (timed jobs, windows, countdown ticks) on the panel: artifacts/bench/timing.json;
# then live data in apps, a value to the panel against a text job, and coalescing: artifacts/bench/live.json;
# then the render time of each job kind, text effect, animated background and overlay against a plain text:
# artifacts/bench/kinds.json;
# then live UDP input (DDP, FlaschenTaschen) to the panel, drops, CPU, against jobs: artifacts/bench/inputs.json;
# then the stack's memory after 0, 100 and 1,000 jobs against the original design's, and over an hour's
# rotation (is anything growing?): artifacts/bench/memory.json;
# then the web's PSS and a push's latency over HTTPS (uvicorn's; nginx in front) against HTTP:
# artifacts/bench/tls.json.
bench: deps $(BIN)/.installed
	$(BIN)/python -m bench
	$(BIN)/python -m bench.card_writes
	$(BIN)/python -m bench.rotation
	$(BIN)/python -m bench.mqtt
	$(BIN)/python -m bench.events
	$(BIN)/python -m bench.render
	$(BIN)/python -m bench.timing
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.kinds
	$(BIN)/python -m bench.inputs
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.tls

# One run's figures into the README (between its markers) and its chart into docs/: after a `make bench`
# on a quiet machine, then commit both.
SECTION ?= bench
bench-readme: deps $(BIN)/.installed
	$(BIN)/python -m bench.readme --section $(SECTION)

# The same harness on a Pi 3's shape (4 x Cortex-A53, 1 GB; software emulation, so its ratios, CPU per job
# and per frame and memory are the figures, not its absolute times): molecule pi3's VM created and
# prepared, then molecule/shared/bench.yml as its side effect (pixie_boot's boot configuration, a reboot,
# the harness), the VM destroyed whatever the outcome.
bench-pi3:
	venv=$$(bash molecule/install-deps.sh $(MOLECULE_VENV)) && export PATH=$$venv/bin:$$PATH && \
	  { molecule destroy -s pi3 && molecule create -s pi3 && molecule prepare -s pi3 && molecule side-effect -s pi3; \
	    status=$$?; molecule destroy -s pi3; exit $$status; }

# Rewrite tests/golden/*.png from what the renderers draw now (testsupport/golden.py): only when pixels
# change on purpose; look at the pictures before committing them. CI never runs this.
golden: deps $(BIN)/.installed
	PIXIE_GOLDEN_UPDATE=1 PATH=$(BIN):$$PATH $(BIN)/pytest -q $$(grep -l assert_golden tests/*.py)
	$(BIN)/python tools/contact_sheet.py

# Bigger fuzz/load runs than the ones `make test` runs in CI.
hardening: deps $(BIN)/.installed
	PIXIE_FUZZ_EXAMPLES=300 PIXIE_FUZZ_SEED=random PIXIE_LOAD_REQUESTS=10000 PIXIE_LOAD_CLIENTS=32 PIXIE_FAULT_REQUESTS=1000 \
	  PATH=$(BIN):$$PATH $(BIN)/pytest -s tests/test_fuzz.py tests/test_media_corpus.py tests/test_load.py \
	  tests/test_security.py tests/roles/test_hardening.py tests/roles/test_ssh.py

molecule molecule-pi3 molecule-pi4 molecule-rollback molecule-readonly:
	venv=$$(bash molecule/install-deps.sh $(MOLECULE_VENV)) && \
	  PIXIE_VERIFY_ROLLBACK=$(if $(filter molecule-rollback,$@),1,0) \
	  PATH=$$venv/bin:$$PATH molecule test -s $(or $(patsubst molecule-%,%,$(filter-out molecule molecule-rollback,$@)),default)

# The tests marked slow, which `make test` leaves out: the build mechanics on make-synthetic-image.sh's
# stand-in image (tests/image/test_image.py), then all the roles baked into molecule's bootable arm64
# stand-in and that image booted (test_image_boot.py). Needs the Debian mirror of the controller's apt
# sources and PyPI; install-deps.sh brings QEMU and debootstrap.
image-tests: deps $(BIN)/.installed
	bash molecule/install-deps.sh $(MOLECULE_VENV) >/dev/null
	PATH=$(BIN):$$PATH $(BIN)/pytest -m slow --durations=0 --confcutdir=tests/image tests/image

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BIN)/.installed: app/pyproject.toml app/constraints.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c app/constraints.txt -e 'app[emulator]' -r requirements-dev.txt
	touch $@

# The same pins on the device, in images and in this venv: pixie_app installs the wheel with
# app/constraints.txt (Pillow held at the distro's there). Resolved in a venv of its own, so
# nothing of the dev tools leaks in.
LOCK_VENV := .cache/lock-venv
lock:
	rm -rf $(LOCK_VENV)
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q './app[emulator]'
	{ echo "# The app's dependencies, pinned. Generated by make lock from app/pyproject.toml: do not edit."; \
	  $(LOCK_VENV)/bin/pip freeze --exclude pixie; } > app/constraints.txt
	rm -rf $(LOCK_VENV)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint .
	PATH=$(BIN):$$PATH $(BIN)/ansible-lint
	for p in site flash image backup rollback; do PATH=$(BIN):$$PATH $(BIN)/ansible-playbook playbooks/$$p.yml --syntax-check || exit 1; done

pytest:
	PATH=$(BIN):$$PATH $(BIN)/pytest
