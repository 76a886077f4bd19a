# vmimages — build, run and test. `make run` and `make test` install what is
# missing first (Debian/Ubuntu: apt-get; elsewhere: a list of what to install).

GO      ?= go
TAGS    := migrated_fynedo
BIN     := vmimages
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# System packages: cgo + GL headers for Fyne, qemu-img for conversion, Xvfb,
# D-Bus, X tools and a window manager (openbox) for the window smoke and
# tray tests and the screenshots, zsh and fish to check the completion
# scripts and groff the man page; for the direct-boot tests: QEMU system emulators, busybox, sfdisk
# and the mkfs and copy tools that build real disks (ext4, XFS, FAT, btrfs).
APT_PKGS := gcc pkg-config libgl1-mesa-dev xorg-dev qemu-utils xvfb xauth \
            dbus dbus-x11 x11-utils xdotool imagemagick openbox curl zsh fish \
            qemu-system-x86 qemu-system-arm busybox-static fdisk e2fsprogs \
            xfsprogs dosfstools mtools btrfs-progs zstd \
            docker-registry groff-base

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all deps testkernels build run test lint bench package screenshots clean fuzz dist install

all: build

deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	  for p in $(APT_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else \
	  echo "Not Debian/Ubuntu: install these yourself if missing:"; \
	  echo "  a C compiler, pkg-config, OpenGL + X11 development headers (Fedora: mesa-libGL-devel libX11-devel libXcursor-devel libXrandr-devel libXinerama-devel libXi-devel libXxf86vm-devel),"; \
	  echo "  qemu-img (Fedora: qemu-img; Arch: qemu-img; macOS: brew install qemu), and for tests Xvfb and dbus."; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is needed: https://go.dev/dl/"; exit 1; }

# Real Debian kernels and busybox for the direct-boot tests, fetched once into
# testdata/kernels (ignored by git).
testkernels: deps
	./scripts/testkernels.sh

build: deps
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build
	./$(BIN)

# early/ is a module of its own (see early/fynelocale): ./... does not reach it.
test: deps testkernels
	$(GO) test -tags $(TAGS) -count=1 ./...
	cd early && $(GO) test -count=1 ./...

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) vet -tags nogui ./...
	cd early && $(GO) vet ./...
	$(GO) tool staticcheck -tags $(TAGS) ./...

fuzz:
	$(GO) test ./core/manifest -run '^$$' -fuzz FuzzParse$$ -fuzztime 30s
	$(GO) test ./core/catalog -run '^$$' -fuzz FuzzParseListing -fuzztime 30s
	$(GO) test ./core/boot -run '^$$' -fuzz FuzzDecompressArm64 -fuzztime 30s
	$(GO) test ./core/boot -run '^$$' -fuzz FuzzExtract -fuzztime 30s

bench: build testkernels
	./scripts/bench.sh ./$(BIN)

package: deps
	$(GO) run fyne.io/tools/cmd/fyne@v1.7.4 package -os linux -release -tags $(TAGS)

# Release files in dist/ (see scripts/dist.sh): static headless CLI archives
# for Linux and macOS, the desktop package, SHA256SUMS; reproducible.
dist: deps
	VERSION=$(VERSION) COMMIT=$(COMMIT) GO=$(GO) ./scripts/dist.sh

# The binary built here, its man page (written by the binary from its own
# help texts) and the shell completions.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vmimages
	$(abspath $(BIN)) __man > $(DESTDIR)$(PREFIX)/share/man/man1/vmimages.1
	$(abspath $(BIN)) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vmimages
	$(abspath $(BIN)) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vmimages
	$(abspath $(BIN)) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vmimages.fish

# The screenshots need the window's start-up hooks (VMIMAGES_GUI_*), which
# only a build with the tag guihooks has; the shipped binary has none.
screenshots: deps
	$(GO) build -tags "$(TAGS) guihooks" -ldflags "$(LDFLAGS)" -o $(BIN)-shots .
	./scripts/screenshots.sh ./$(BIN)-shots

clean:
	rm -f $(BIN) $(BIN)-shots *.tar.xz
	rm -rf dist
