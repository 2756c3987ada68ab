import type { EventStream } from '../../services/event-stream.js';

/** Version of the {@link Exporter} contract. */
export const exporterContractVersion = 1;

/** What to export and where. */
export interface ExportRequest {
  /** Hugging Face model folder of the chosen checkpoint. */
  readonly checkpointDirectory: string;
  /** Folder to write the exported model into. */
  readonly outputDirectory: string;
}

/** What an exporter wrote. */
export interface ExportResult {
  readonly outputDirectory: string;
  /** Relative paths of the files written. */
  readonly files: readonly string[];
  /** Total size on disk in bytes. */
  readonly bytes: number;
}

/** Writes a deployable form of the student. */
export interface Exporter {
  export(request: ExportRequest, events: EventStream, signal: AbortSignal): Promise<ExportResult>;
}
