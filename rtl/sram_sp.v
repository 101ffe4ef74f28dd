// Single-port synchronous SRAM: one access per cycle, write when we, else read (data the next cycle).
module sram_sp #(
    parameter integer WIDTH = 32,
    parameter integer DEPTH = 1024
) (
    input  wire                     clk,
    input  wire                     en,
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] addr,
    input  wire [WIDTH-1:0]         wdata,
    output reg  [WIDTH-1:0]         rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (en) begin
            if (we) mem[addr] <= wdata;
            else    rdata     <= mem[addr];
        end
    end
endmodule
