/** Element id of a ticket's card: stable across page, quick action, Undo and stream. */
export const cardId = (id: number) => `ticket-${id}`;
