# One image for every threadlog process; compose.yaml picks the command.
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY eventlog ./eventlog
COPY service ./service
COPY projections ./projections
COPY sql ./sql
RUN pip install --no-cache-dir .
RUN useradd --system threadlog
USER threadlog
EXPOSE 8000
CMD ["threadlog", "serve", "--host", "0.0.0.0", "--port", "8000"]
