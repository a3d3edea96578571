# Not built by CI (the CI machine has no Docker engine); kept in step by hand.
#
# The image runs `eventsd serve`. Settings are environment variables, as for
# the binary (eventsd help lists them); the store is EVENTS_STORE:
#   mongodb   MONGODB_URI (the default store)
#   postgres  DATABASE_URL
#   sqlite    events.db in DATA_DIR, /data here: mount a volume there
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# eventsd version shows VERSION when given (docker build --build-arg
# VERSION=$(git describe --tags --always --dirty)), and the commit when the
# build context holds the .git directory.
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /eventsd ./cmd/eventsd
# serve keeps SQLite events in DATA_DIR and does not create it: the image
# has it, owned by the user eventsd runs as.
RUN mkdir /data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /eventsd /eventsd
COPY --from=build --chown=65532:65532 /data /data
ENV DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 9000
USER nonroot
ENTRYPOINT ["/eventsd"]
CMD ["serve"]
