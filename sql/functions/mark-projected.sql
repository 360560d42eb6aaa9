-- The live projector's batch is in the views: its checkpoint moves to the batch's last event,
-- and 'threadlog_projected' tells the API processes waiting for read-your-writes, delivered
-- at the commit of the same transaction as the views' writes.
create or replace function threadlog_mark_projected(
    p_consumer text,
    p_transaction_id text,
    p_position bigint
) returns void
language plpgsql
as $$
begin
    perform threadlog_move_checkpoint(p_consumer, p_transaction_id, p_position);
    perform pg_notify('threadlog_projected', p_transaction_id || '-' || p_position);
end;
$$;
