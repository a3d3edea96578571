# Not built by CI (the CI machine has no Docker engine); kept in step by hand.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /eventsd ./cmd/eventsd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /eventsd /eventsd
EXPOSE 9000
USER nonroot
ENTRYPOINT ["/eventsd"]
CMD ["serve"]
