FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY socconsole ./socconsole
COPY inventory ./inventory
COPY alerts ./alerts
COPY incidents ./incidents
COPY investigation ./investigation
COPY search ./search
COPY dashboard ./dashboard
COPY detections ./detections
COPY response ./response
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && SECRET_KEY=build-only python manage.py collectstatic --noinput -v0 \
    && mkdir /app/secrets && useradd --system --uid 1000 soc && chown -R soc /app
USER soc
EXPOSE 8000
CMD ["gunicorn", "socconsole.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
