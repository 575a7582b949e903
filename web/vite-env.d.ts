// Types for Vite's asset imports (`?url`, CSS) in the page and the worker.
/// <reference types="vite/client" />
