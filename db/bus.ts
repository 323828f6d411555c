/** The in-process event bus: the store publishes committed events, SSE streams listen. */
import type { TicketEvent } from "./store.ts";

export type Listener = (event: TicketEvent) => void;

/** Fans committed events out to subscribers, synchronously and in publish order. */
export interface EventBus {
  /** Delivers an event that is already committed. */
  publish(event: TicketEvent): void;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: Listener): () => void;
}

/** An in-memory bus for one process. */
export function createMemoryBus(): EventBus {
  const listeners = new Set<Listener>();
  return {
    publish(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (err) {
          console.error("event listener failed", err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Ephemeral signals between the app's instances (presence: who has a ticket
 * open). Nothing is stored; a signal sent reaches every instance, this one
 * included: in memory for one process, over LISTEN/NOTIFY on PostgreSQL.
 */
export interface SignalBus {
  /** Sends one signal (a short JSON text) to every instance. */
  send(payload: string): Promise<void>;
  /** Registers a listener; returns the function that removes it. */
  listen(listener: (payload: string) => void): () => void;
}

/** Signals within one process. */
export function createMemorySignals(): SignalBus {
  const listeners = new Set<(payload: string) => void>();
  return {
    send(payload) {
      for (const l of listeners) {
        try {
          l(payload);
        } catch (err) {
          console.error("signal listener failed", err);
        }
      }
      return Promise.resolve();
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
