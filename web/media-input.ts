/**
 * Getting images into the page: files dropped anywhere on it, the file picker, and the URL
 * parameters ?cdrom= ?hda= ?fda= ?config= (images fetched by the worker, a configuration
 * fetched here). Files stay File objects: the worker reads them lazily with Blob.slice.
 */

export function attachDropZone(target: HTMLElement, onFiles: (files: File[]) => void): void {
  let depth = 0;
  const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  target.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    target.classList.add('dragging');
  });
  target.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'copy';
  });
  target.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) target.classList.remove('dragging');
  });
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    target.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
}

export function attachFilePicker(input: HTMLInputElement, onFiles: (files: File[]) => void): void {
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) onFiles(files);
  });
}

export interface UrlMedia {
  cdrom?: string;
  hda?: string;
  fda?: string;
  config?: string;
}

/** The media URL parameters, made absolute against the page's address. */
export function urlMedia(location: Location): UrlMedia {
  const params = new URLSearchParams(location.search);
  const out: UrlMedia = {};
  for (const key of ['cdrom', 'hda', 'fda', 'config'] as const) {
    const value = params.get(key);
    if (value) out[key] = new URL(value, location.href).href;
  }
  return out;
}
