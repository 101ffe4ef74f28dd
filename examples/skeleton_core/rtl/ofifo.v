// OFIFO: one FIFO per column, written when that column's psum is fresh; o_valid once every column holds
// one; rd pops the aligned vector (first-word-fall-through: out is the head).
// out and the empty flags are chains of concatenations, one driver per net (see mac_row.v's note).
module ofifo #(parameter col = 8, parameter psum_bw = 16) (
    input                     clk,
    input                     reset,
    input  [col-1:0]          wr,
    input                     rd,
    input  [psum_bw*col-1:0]  in,
    output [psum_bw*col-1:0]  out,
    output                    o_valid
);
    genvar i;
    generate
        for (i = 0; i < col; i = i + 1) begin : col_num
            reg [psum_bw-1:0] mem [0:63];
            reg [6:0]         rptr, wptr;
            wire [psum_bw-1:0]       o = mem[rptr[5:0]];
            wire                     e = (rptr == wptr);
            wire [psum_bw*(i+1)-1:0] o_chain;   // columns 0..i's heads
            wire                     e_any;     // one of columns 0..i is empty
            if (i == 0) begin : g_first
                assign o_chain = o;
                assign e_any   = e;
            end else begin : g_next
                assign o_chain = {o, col_num[i-1].o_chain};
                assign e_any   = e | col_num[i-1].e_any;
            end
            always @(posedge clk) begin
                if (reset) begin
                    rptr <= 7'd0;
                    wptr <= 7'd0;
                end else begin
                    if (wr[i]) begin
                        mem[wptr[5:0]] <= in[psum_bw*(i+1)-1:psum_bw*i];
                        wptr <= wptr + 7'd1;
                    end
                    if (rd && o_valid) rptr <= rptr + 7'd1;
                end
            end
        end
    endgenerate
    assign out     = col_num[col-1].o_chain;
    assign o_valid = ~col_num[col-1].e_any;
endmodule
