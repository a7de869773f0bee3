# A Spring Boot application image that carries eureka-hook, for the lifecycle hooks in
# examples/kubernetes/deployment.yaml and statefulset.yaml (/usr/local/bin/eureka-hook).
#
# eureka-hook is one static binary: it needs no shell, libc, curl or CA bundle in the image,
# so a shell-less base (distroless here, Paketo "tiny" alike) is fine, and the hooks call it
# directly instead of `sh -c "curl ...; sleep 30"`. The image is published for linux/amd64 and
# linux/arm64, so this COPY takes the binary of the platform this image is built for (plain
# `docker build` on an arm64 machine, or each platform of `docker buildx build --platform
# linux/amd64,linux/arm64`). Pin it by digest in production: the digest of the multi-platform
# index (ghcr.io/example/eureka-hook:0.1.0@sha256:...), not of one platform's image.
#
# Images built by Paketo buildpacks or Jib have no Dockerfile to edit: add the same COPY in
# a one-line Dockerfile on top of the built image, or use the init container or image volume
# in examples/kubernetes/init-container.yaml.

FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml .
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q package -DskipTests \
    && cp target/*.jar /build/app.jar

FROM gcr.io/distroless/java21-debian12:nonroot
COPY --from=ghcr.io/example/eureka-hook:0.1.0 /eureka-hook /usr/local/bin/eureka-hook
COPY --from=build /build/app.jar /app/app.jar
EXPOSE 8080
# Exec form, so java is PID 1 and receives the SIGTERM that kubelet sends once preStop has
# finished (a wrapper shell would not pass it on, and the graceful shutdown would never run).
# The hooks' --log-file /proc/1/fd/1 is PID 1's stdout: what `kubectl logs` shows.
ENTRYPOINT ["/usr/bin/java", "-jar", "/app/app.jar"]
