# A Docker Space (or any container host) with the CPU build of torch: no CUDA wheels, small image.
FROM python:3.11-slim

RUN useradd -m -u 1000 user
WORKDIR /home/user/app

COPY requirements.txt .
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.txt

COPY --chown=user . .
USER user
ENV PLAYGROUND_DEVICE=cpu \
    PLAYGROUND_MAX_JOBS=2 \
    MALLOC_ARENA_MAX=2
EXPOSE 7860
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.port=7860", "--server.address=0.0.0.0"]
